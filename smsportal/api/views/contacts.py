"""Contacts, lists, list membership and opt-outs: the same rules as the contacts pages
(numbers stored in E.164, one contact per number, an opt-out made by keyword or by a Manager
lifted only by a Manager)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.response import Response

from smsportal.contacts.models import Contact, ContactList, OptOut
from smsportal.contacts.scope import contacts_of, lists_of, own_lists
from smsportal.departments.scope import departments_of
from smsportal.sms.phones import parse_phone

from .. import filters
from ..fields import NoUnknownFields, ScopedPrimaryKeyField, StrictCharField
from ..pagination import NewestFirst, OldestFirst
from .base import ApiMixin

CONTACTS = "contacts"


def e164(raw: str) -> str:
    parsed = parse_phone(raw, settings.PHONE_DEFAULT_REGION)
    if not parsed.valid:
        raise serializers.ValidationError(
            f"“{raw}” is not a phone number: {parsed.error}", code="invalid_number"
        )
    return parsed.e164


class ContactSerializer(NoUnknownFields, serializers.ModelSerializer):
    phone = StrictCharField(max_length=40, help_text="Any common format; stored in E.164.")
    name = StrictCharField(max_length=200, allow_blank=True, required=False)
    lists = serializers.SerializerMethodField(
        help_text="The lists the contact is on that the key may see (its department's and "
        "shared ones)."
    )

    class Meta:
        model = Contact
        fields = ["id", "phone", "name", "email", "lists", "created_at", "updated_at"]
        read_only_fields = ["id", "lists", "created_at", "updated_at"]

    def validate_phone(self, raw: str) -> str:
        phone = e164(raw)
        others = Contact.objects.filter(phone=phone, department=key_department(self.context))
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError(
                f"A contact with the number {phone} exists already.", code="unique"
            )
        return phone

    def get_lists(self, contact) -> list[int]:
        # Another department's private list is "not found" to this key: its id would say the
        # contact is on it (`with_visible_lists` reads them with the contacts of a page).
        lists = getattr(contact, VISIBLE_LISTS, None)
        if lists is None:
            lists = contact.lists.filter(pk__in=lists_of(self.context["request"]))
        return sorted(contact_list.pk for contact_list in lists)


class ListSerializer(NoUnknownFields, serializers.ModelSerializer):
    name = StrictCharField(max_length=100)
    description = StrictCharField(allow_blank=True, required=False)
    member_count = serializers.SerializerMethodField()

    class Meta:
        model = ContactList
        fields = ["id", "name", "description", "member_count", "created_at"]
        read_only_fields = ["id", "member_count", "created_at"]

    def get_member_count(self, contact_list) -> int:
        # annotated on reads; a list just made has none
        return getattr(contact_list, "member_count", 0)

    def validate_name(self, name: str) -> str:
        others = ContactList.objects.filter(name=name, department=key_department(self.context))
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError("A list of this name exists already.", code="unique")
        return name


class MembersSerializer(NoUnknownFields, serializers.Serializer):
    contacts = serializers.ListField(
        child=ScopedPrimaryKeyField(scope=contacts_of, model=Contact),
        min_length=1,
        max_length=10_000,
    )


VISIBLE_LISTS = "visible_lists"


def with_visible_lists(contacts, request):
    """`contacts` with, read in one query, the lists of each that the key may see."""
    return contacts.prefetch_related(
        Prefetch("lists", queryset=lists_of(request), to_attr=VISIBLE_LISTS)
    )


def key_department(context):
    """The department an API key writes for: the key's own (None for an older key made before
    departments, whose rows are the whole organisation's)."""
    request = context["request"]
    department_id = getattr(request.auth, "department_id", None)
    if department_id is None:
        return None
    return departments_of(request).filter(pk=department_id).first()


class OptOutSerializer(NoUnknownFields, serializers.ModelSerializer):
    phone = StrictCharField(max_length=40)
    note = StrictCharField(max_length=200, allow_blank=True, required=False)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = OptOut
        fields = ["id", "phone", "reason", "note", "created_at", "created_by"]
        read_only_fields = ["id", "reason", "created_at", "created_by"]

    def validate_phone(self, raw: str) -> str:
        return e164(raw)


class ContactListView(ApiMixin, generics.ListCreateAPIView):
    access = {
        "GET": (CONTACTS, ["contacts.view_contact"]),
        "POST": (CONTACTS, ["contacts.add_contact"]),
    }
    serializer_class = ContactSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        params = self.request.query_params
        found = with_visible_lists(contacts_of(self.request), self.request)
        if (list_id := filters.integer(params, "list")) is not None:
            # A list gone, or another department's not shared, is a 404 (as its members are):
            # filtering by it would tell which of the key's contacts are on it.
            contact_list = get_object_or_404(lists_of(self.request), pk=list_id)
            found = found.filter(memberships__contact_list=contact_list)
        if (phone := filters.text(params, "phone", 40)) is not None:
            found = found.filter(phone__contains=phone)
        if (name := filters.text(params, "name", 200)) is not None:
            found = found.filter(name_key__startswith=name.casefold())
        return found

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "list",
                OpenApiTypes.INT,
                description="members of this list (one the key may not see: 404)",
            ),
            OpenApiParameter("phone", OpenApiTypes.STR, description="digits the number holds"),
            OpenApiParameter("name", OpenApiTypes.STR, description="the name starts with"),
        ],
        operation_id="contacts_list",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(operation_id="contacts_create")
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.save(department=key_department(serializer.context))


class ContactDetailView(ApiMixin, generics.RetrieveUpdateDestroyAPIView):
    http_method_names = ["get", "patch", "delete"]
    access = {
        "GET": (CONTACTS, ["contacts.view_contact"]),
        "PATCH": (CONTACTS, ["contacts.change_contact"]),
        "DELETE": (CONTACTS, ["contacts.delete_contact"]),
    }
    serializer_class = ContactSerializer

    def get_queryset(self):
        return with_visible_lists(contacts_of(self.request), self.request)


class ListListView(ApiMixin, generics.ListCreateAPIView):
    access = {
        "GET": (CONTACTS, ["contacts.view_contactlist"]),
        "POST": (CONTACTS, ["contacts.add_contactlist"]),
    }
    serializer_class = ListSerializer
    pagination_class = OldestFirst

    def get_queryset(self):
        return lists_of(self.request).annotate(member_count=Count("membership"))

    def perform_create(self, serializer):
        serializer.save(department=key_department(serializer.context))


class ListDetailView(ApiMixin, generics.RetrieveUpdateDestroyAPIView):
    http_method_names = ["get", "patch", "delete"]
    access = {
        "GET": (CONTACTS, ["contacts.view_contactlist"]),
        "PATCH": (CONTACTS, ["contacts.change_contactlist"]),
        "DELETE": (CONTACTS, ["contacts.delete_contactlist"]),
    }
    serializer_class = ListSerializer

    def get_queryset(self):
        # A shared list of another department is read, never changed.
        lists = lists_of(self.request) if self.request.method == "GET" else own_lists(self.request)
        return lists.annotate(member_count=Count("membership"))


class AddedSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="contacts that were not members before")


class ListMembersView(ApiMixin, generics.GenericAPIView):
    access = {
        "GET": (CONTACTS, ["contacts.view_contactlist", "contacts.view_contact"]),
        "POST": (CONTACTS, ["contacts.change_contactlist"]),
    }
    serializer_class = ContactSerializer
    pagination_class = OldestFirst

    @extend_schema(responses=ContactSerializer(many=True), operation_id="lists_members_list")
    def get(self, request, pk: int):
        contact_list = get_object_or_404(lists_of(request), pk=pk)
        found = with_visible_lists(
            contacts_of(request).filter(memberships__contact_list=contact_list), request
        )
        page = self.paginate_queryset(found)
        shown = ContactSerializer(page, many=True, context=self.get_serializer_context())
        return self.get_paginated_response(shown.data)

    @extend_schema(
        request=MembersSerializer, responses=AddedSerializer, operation_id="lists_members_add"
    )
    def post(self, request, pk: int):
        contact_list = get_object_or_404(own_lists(request), pk=pk)
        payload = MembersSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        added = contact_list.add(c.pk for c in payload.validated_data["contacts"])
        return Response({"added": added})


class ListMemberView(ApiMixin, generics.GenericAPIView):
    access = {"DELETE": (CONTACTS, ["contacts.change_contactlist"])}
    serializer_class = ContactSerializer

    @extend_schema(responses={204: None}, operation_id="lists_members_remove")
    def delete(self, request, pk: int, contact_id: int):
        contact_list = get_object_or_404(own_lists(request), pk=pk)
        if not contact_list.remove([contact_id]):
            raise exceptions.NotFound("That contact is not a member of this list.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class OptOutListView(ApiMixin, generics.ListCreateAPIView):
    access = {
        "GET": (CONTACTS, ["contacts.view_optout"]),
        "POST": (CONTACTS, ["contacts.add_optout"]),
    }
    serializer_class = OptOutSerializer
    pagination_class = NewestFirst

    def get_queryset(self):
        found = OptOut.objects.select_related("created_by")
        if (phone := filters.text(self.request.query_params, "phone", 40)) is not None:
            found = found.filter(phone__contains=phone)
        return found

    @extend_schema(
        parameters=[OpenApiParameter("phone", OpenApiTypes.STR)], operation_id="opt_outs_list"
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        responses={201: OptOutSerializer, 200: OptOutSerializer}, operation_id="opt_outs_create"
    )
    def post(self, request, *args, **kwargs):
        """Opt a number out; a number opted out already answers 200 with its opt-out."""
        payload = OptOutSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        optout, created = OptOut.objects.get_or_create(
            phone=payload.validated_data["phone"],
            defaults={
                "reason": OptOut.Reason.MANUAL,
                "note": payload.validated_data.get("note", ""),
                "created_by": request.user,
            },
        )
        return Response(
            OptOutSerializer(optout).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class OptOutDetailView(ApiMixin, generics.RetrieveDestroyAPIView):
    """Lifting an opt-out the person asked for (keyword) or a Manager made needs a Manager's
    role and the key's admin scope."""

    access = {
        "GET": (CONTACTS, ["contacts.view_optout"]),
        "DELETE": (CONTACTS, ["contacts.delete_optout"]),
    }
    serializer_class = OptOutSerializer
    queryset = OptOut.objects.select_related("created_by")

    def perform_destroy(self, optout: OptOut) -> None:
        if optout.protected and not self.request.auth.has_scope("admin"):
            raise exceptions.PermissionDenied(
                "Lifting an opt-out made by keyword or by a Manager needs the “admin” scope.",
                code="missing_scope",
            )
        if not optout.may_be_lifted_by(self.request.user):
            raise exceptions.PermissionDenied(
                f"Only a Manager may remove the opt-out of {optout.phone}.", code="role_forbids"
            )
        optout.delete()
