"""Every blueprint the app serves, in one list."""
from api.routes import accounts, public, staff

ROUTES = [public.blp, accounts.blp, staff.blp]
