"""The fault suite: every bad input or fault ends in correct numbers or one clear error."""
