"""The web dashboard at ``/ui`` (see :mod:`switchyard.doors.ui.door`)."""
