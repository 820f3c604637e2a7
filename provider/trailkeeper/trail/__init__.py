"""What a trail is and how two states of it are compared: declarations, rules, normalisation, plans. Pure: no AWS."""
