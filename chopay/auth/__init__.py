"""Users, roles and scopes, login, API tokens and the one authorization layer."""
