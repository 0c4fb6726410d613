import factory

from ebhxh.accounts.models import User, UserRole

PASSWORD = "mat-khau-thu-nghiem-1"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name", locale="vi_VN")
    email = factory.Sequence(lambda n: f"user{n}@example.vn")
    kind = User.Kind.SYSTEM
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            UserRole.objects.bulk_create([UserRole(user=self, role=r) for r in extracted])
