"""Who counts as staff: members of the staff group and the admins."""
