"""API permissions: any valid token reads; writes need staff with the model's permission."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

WRITE_ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


class ApiAccess(BasePermission):
    """Reads for any authenticated caller; writes per the view's `write_model` permissions."""

    message = "You need staff status and the model's permission to change data."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS or getattr(view, "read_only_post", False):
            return True
        if request.method.lower() not in view.http_method_names or not hasattr(
            view, request.method.lower()
        ):
            return True  # let the view answer 405 rather than hide the method behind 403
        model = getattr(view, "write_model", None)
        action = WRITE_ACTIONS.get(request.method)
        if model is None or action is None or not user.is_staff:
            return False
        return user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}")
