"""The admin of ``Company`` is registered in ``nestogy.accounts.admin`` and the admin base
for tenant-owned models lives in ``nestogy.accounts.admin_base``: both need the permission
matrix (``accounts.roles``), which sits above ``tenancy`` in the layers."""
