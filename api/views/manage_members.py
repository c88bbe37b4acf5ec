"""Members and co-organizer invitations of a letter (/api/v1/manage/letters/{slug}/members/, …/invitations/) and
accepting an invitation (/api/v1/manage/invitations/accept). Every letter is fetched through letter_for_member: for
someone who is not a member, the letter, its members and its invitations are all 404. A member id or invitation id
of another letter is 404 too. The services check the role (owners, and staff with two-factor login, manage members;
any member may leave) and refuse to leave a letter without an owner."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from api.serializers.manage_members import (
    AcceptedSerializer,
    AcceptInputSerializer,
    InvitationInputSerializer,
    InvitationSerializer,
    MemberSerializer,
    RoleInputSerializer,
)
from api.views.manage import MANAGE_ERRORS, TAGS, ManageView
from config import converters  # noqa: F401  registers <public_id:…> and <num:…>
from organizing.permissions import MANAGE_MEMBERS, VIEW_LETTER
from organizing.selectors import invitation_of_letter, invitations_pending, members_of_letter, membership_of_letter
from organizing.services import (
    membership_remove,
    membership_role_change,
    organizer_invitation_accept,
    organizer_invitation_create,
    organizer_invitation_revoke,
)


class MemberListView(ManageView):
    @extend_schema(
        summary="The letter's members (any member may read them), owners first",
        responses={200: MemberSerializer(many=True), **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, VIEW_LETTER)
        return Response(
            MemberSerializer(members_of_letter(letter=letter), many=True, context={"request": request}).data
        )


class MemberDetailView(ManageView):
    @extend_schema(
        summary="Change a member's role (owners only; the last owner cannot be demoted)",
        request=RoleInputSerializer,
        responses={200: MemberSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, slug: str, member_id: int) -> Response:
        letter = self.letter(slug, MANAGE_MEMBERS)
        membership = membership_of_letter(letter=letter, membership_id=member_id)
        data = self.valid(RoleInputSerializer)
        changed = membership_role_change(membership=membership, role=data["role"], actor=request.user)
        return Response(MemberSerializer(changed, context={"request": request}).data)

    @extend_schema(
        summary="Remove a member (owners), or leave (yourself); the last owner can do neither",
        request=None,
        responses={204: None, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def delete(self, request: Request, slug: str, member_id: int) -> Response:
        letter = self.letter(slug, VIEW_LETTER)
        membership_remove(membership=membership_of_letter(letter=letter, membership_id=member_id), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListView(ManageView):
    @extend_schema(
        summary="Pending invitations (owners only): neither accepted, revoked nor expired",
        responses={200: InvitationSerializer(many=True), **MANAGE_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, MANAGE_MEMBERS)
        return Response(InvitationSerializer(invitations_pending(letter=letter), many=True).data)

    @extend_schema(
        summary="Invite a co-organizer by email (owners only): a single-use link that expires, sent by email",
        request=InvitationInputSerializer,
        responses={201: InvitationSerializer, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, slug: str) -> Response:
        letter = self.letter(slug, MANAGE_MEMBERS)
        data = self.valid(InvitationInputSerializer)
        issued = organizer_invitation_create(letter=letter, email=data["email"], role=data["role"], actor=request.user)
        return Response(InvitationSerializer(issued.invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(ManageView):
    @extend_schema(
        summary="Revoke a pending invitation (owners only): its link stops working",
        request=None,
        responses={204: None, **MANAGE_ERRORS},
        tags=TAGS,
    )
    def delete(self, request: Request, slug: str, invitation_id: str) -> Response:
        letter = self.letter(slug, MANAGE_MEMBERS)
        invitation = invitation_of_letter(letter=letter, public_id=invitation_id)
        organizer_invitation_revoke(invitation=invitation, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptView(ManageView):
    @extend_schema(
        summary="Accept an invitation with its token: you become a member with the invited role",
        description=(
            "The invited address must be among your account's verified addresses. A used, revoked, expired or "
            "unknown token is a 400 on `token`; an address mismatch a 400 on `email`."
        ),
        request=AcceptInputSerializer,
        responses={200: AcceptedSerializer, 400: MANAGE_ERRORS[400], 401: MANAGE_ERRORS[401]},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = self.valid(AcceptInputSerializer)
        membership = organizer_invitation_accept(token=data["token"], user=request.user)
        return Response(AcceptedSerializer(membership).data)


LETTER = "manage/letters/<slug:slug>"
urlpatterns = [
    path(f"{LETTER}/members/", MemberListView.as_view(), name="api-manage-members"),
    path(f"{LETTER}/members/<num:member_id>/", MemberDetailView.as_view(), name="api-manage-member"),
    path(f"{LETTER}/invitations/", InvitationListView.as_view(), name="api-manage-invitations"),
    path(
        f"{LETTER}/invitations/<public_id:invitation_id>/", InvitationDetailView.as_view(), name="api-manage-invitation"
    ),
    path("manage/invitations/accept", InvitationAcceptView.as_view(), name="api-manage-invitation-accept"),
]
