from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html

from nestogy.accounts.admin_base import TenantAdmin
from nestogy.tickets.attachments import download_response
from nestogy.tickets.models import TicketAttachment


@admin.register(TicketAttachment)
class TicketAttachmentAdmin(TenantAdmin):
    """Files attached to tickets (by contacts in the portal, by staff in the workspace).
    Staff open them through the download link, which reads the file via storage inside the
    company scope (media is not served)."""

    list_display = ("original_name", "ticket", "uploaded_by_contact", "uploaded_by_user", "size",
                    "content_type", "created_at", "download")
    list_select_related = ("ticket", "uploaded_by_contact", "uploaded_by_user")
    search_fields = ("original_name", "ticket__subject")
    readonly_fields = ("public_id", "ticket", "reply", "uploaded_by_contact", "uploaded_by_user",
                       "original_name", "size", "content_type", "created_at", "download")
    exclude = ("file",)
    view_perm = "tickets.view"
    change_perm = None

    @admin.display(description="File")
    def download(self, obj):
        url = reverse("admin:portal_ticketattachment_download", args=[obj.pk])
        return format_html('<a href="{}">Download</a>', url)

    def get_urls(self):
        return [path("<int:pk>/download/",
                     self.admin_site.admin_view(self.download_view),
                     name="portal_ticketattachment_download"), *super().get_urls()]

    def download_view(self, request, pk: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        attachment = self.get_queryset(request).filter(pk=pk).first()
        if attachment is None:
            raise Http404("attachment not found")
        return download_response(attachment)
