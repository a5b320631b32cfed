from groups.models import Membership


def acting_membership(request):
    """The signed-in user's organisation and role, for the page header and menus."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return {"membership": None}
    membership = Membership.objects.select_related("organisation").filter(user_id=user.pk).first()
    return {"membership": membership}
