from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt

from smsportal.core.problem_details import problem_response


@csrf_exempt
def unknown_endpoint(request):
    """Anything under /api/v1/ that no endpoint matches: a problem, not the portal's HTML 404."""
    return problem_response(404, "not_found", "Not found", f"There is no endpoint {request.path}.")
