package queue

// Blocked returns how many dequeues wait for a message, as of the owner's last step.
func (o *Owner) Blocked() int { return int(o.blocked.Load()) }
