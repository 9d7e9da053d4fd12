package command

// LaneMaxInFlight is laneMaxInFlight, for the client's tests.
const LaneMaxInFlight = laneMaxInFlight

// Waiting returns how many requests wait on c's lane to subject for a message to go in.
func (c *Client) Waiting(subject string) int {
	l := c.lane(subject)
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.waiting)
}
