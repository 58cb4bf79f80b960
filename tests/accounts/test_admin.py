from nestogy.accounts.models import User
from tests.conftest import PASSWORD
from tests.support.admin_forms import login


def test_superuser_sees_every_company(personas):
    User.objects.create_superuser("root@nestogy.test", PASSWORD)
    http = login("root@nestogy.test")
    page = http.get("/admin/clients/client/")
    assert b"Acme Dental" in page.content and b"Bravo Client" in page.content


def test_every_model_is_registered_in_admin():
    from django.apps import apps
    from django.contrib import admin

    missing = [m._meta.label for m in apps.get_models()
               if m.__module__.startswith("nestogy.") and m not in admin.site._registry]
    assert not missing, f"register these models in their app's admin.py: {missing}"
