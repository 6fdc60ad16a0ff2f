"""Cases: a resident's request, its messages, the card staff see and the relay between resident and
staff."""
