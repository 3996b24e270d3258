"""Skills: what the assistant does for an understood message, registered by intent."""
