"""Re-encrypt every stored resident ID number with the first key of ID_ENCRYPTION_KEY."""

from django.core.management.base import BaseCommand, CommandError

from groups.services import participant_ids_reencrypt
from retreat.errors import ValidationFailed


class Command(BaseCommand):
    help = ("用 ID_ENCRYPTION_KEY 的第一个密钥重新加密全部身份证号，之后可删去旧密钥 "
            "(re-encrypt every ID number with the first key of ID_ENCRYPTION_KEY; the old keys can go afterwards)")

    def handle(self, *args, **options):
        try:
            count = participant_ids_reencrypt()
        except ValidationFailed as error:
            raise CommandError(error.message, returncode=1) from None
        self.stdout.write(self.style.SUCCESS(f"已重新加密 {count} 个身份证号 (re-encrypted {count} ID numbers)"))
