"""The audit trail's admin is registered in ``nestogy.accounts.admin``: its permission
(``audit.view``) comes from ``accounts.roles``, which sits above ``audit`` in the layers."""
