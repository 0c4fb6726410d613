from django.contrib.auth.backends import ModelBackend


class LoginIdentifierBackend(ModelBackend):
    pass
