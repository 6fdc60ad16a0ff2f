"""What staff do: case topics in the staff group, /queue, appointment and event management, audit
and figures."""
