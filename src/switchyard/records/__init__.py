"""What every request leaves behind: one :class:`RequestRecord`, handed to the Gateway's sinks."""
