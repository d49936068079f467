"""The one permission table: what each role may do in a team. Every team action and endpoint asks `can()`.

Owners manage billing, rename or delete the team and hand ownership on; admins invite and remove members
and change roles below owner; members use the product. A rule missing here is a rule nobody has.
"""

from enum import StrEnum

from teams.models import Role


class Permission(StrEnum):
    VIEW = "team.view"  # see the team, its members and its data; use the product in it
    RENAME = "team.rename"
    DELETE = "team.delete"
    BILLING = "team.billing"  # checkout, the billing portal, the plan
    TRANSFER = "team.transfer"  # make another member an owner
    INVITE = "members.invite"  # invite, resend and revoke invitations
    REMOVE = "members.remove"  # remove another member (below owner, for admins)
    CHANGE_ROLE = "members.change_role"  # between admin and member (owners also to and from owner)
    # Delete any of the team's posts, not only one's own (moderation within the team). Editing stays the
    # author's alone: nobody puts words in a teammate's mouth.
    POSTS_DELETE_ANY = "posts.delete_any"


EVERYONE = frozenset(Role)
OWNER_ADMIN = frozenset({Role.OWNER, Role.ADMIN})
OWNER = frozenset({Role.OWNER})

PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.VIEW: EVERYONE,
    Permission.RENAME: OWNER_ADMIN,
    Permission.DELETE: OWNER,
    Permission.BILLING: OWNER,
    Permission.TRANSFER: OWNER,
    Permission.INVITE: OWNER_ADMIN,
    Permission.REMOVE: OWNER_ADMIN,
    Permission.CHANGE_ROLE: OWNER_ADMIN,
    Permission.POSTS_DELETE_ANY: OWNER_ADMIN,
}

# Who can act on whom: an admin never changes or removes an owner, nor makes one.
RANK = {Role.MEMBER: 0, Role.ADMIN: 1, Role.OWNER: 2}


def can(role: str | None, permission: Permission) -> bool:
    return role is not None and Role(role) in PERMISSIONS[permission]


def can_manage(actor_role: str, target_role: str, new_role: str | None = None) -> bool:
    """May someone with `actor_role` remove a member with `target_role` (or move them to `new_role`)?
    Owners may do anything to anyone; admins only to members and admins, and never make an owner."""
    if Role(actor_role) == Role.OWNER:
        return True
    if not can(actor_role, Permission.REMOVE):
        return False
    ceiling = RANK[Role(actor_role)]
    return RANK[Role(target_role)] <= ceiling and (new_role is None or RANK[Role(new_role)] <= ceiling)
