from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignaturesConfig(AppConfig):
    name = "ebhxh.signatures"
    verbose_name = _("Chữ ký số")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from ebhxh.signatures import models
        from ebhxh.signatures.validation import clear_decisions

        # A change to what certificate decisions depend on forgets the remembered decisions.
        for model in (
            models.TrustedRoot,
            models.IntermediateCertificate,
            models.RevocationList,
            models.OcspResponseCache,
            models.RegisteredCertificate,
        ):
            for signal in (post_save, post_delete):
                signal.connect(
                    clear_decisions, sender=model, dispatch_uid=f"decisions-{model}-{signal}"
                )
