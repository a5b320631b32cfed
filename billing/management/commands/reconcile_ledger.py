"""Prove every programme's balance equals the sum of its ledger entries."""

from django.core.management.base import BaseCommand, CommandError

from billing.ledger import reconcile


class Command(BaseCommand):
    help = "核对每个专项经费的余额与台账合计 (check every programme balance against its ledger entries)"

    def handle(self, *args, **options):
        differences = reconcile()
        for difference in differences:
            self.stderr.write(
                f"专项经费 #{difference.programme_id}「{difference.programme}」{difference.column}: "
                f"记录 {difference.stored}，台账合计 {difference.from_entries}，差额 {difference.stored - difference.from_entries}"
            )
        if differences:
            raise CommandError(f"{len(differences)} 处余额与台账不符 (balances differ from the ledger)", returncode=1)
        self.stdout.write(self.style.SUCCESS("所有专项经费余额与台账一致 (every balance equals its ledger)"))
