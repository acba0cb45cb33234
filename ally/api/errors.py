"""API errors: Wagtail's ``{"message": …}`` body with a status code."""


class ApiError(Exception):
    """A request the API refuses; ``message`` is Wagtail's wording where Wagtail has one."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status
