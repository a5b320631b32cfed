"""What the apps' admins share."""


class ReadOnlyAdminMixin:
    """For records written only by the services (a history, the ledger): the admin shows them and changes nothing."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
