"""A resident's data: what /mydata shows, erasure, key rotation and retention."""
