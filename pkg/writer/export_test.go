package writer

// LaneMaxInFlight is laneMaxInFlight, for the client's tests.
const LaneMaxInFlight = laneMaxInFlight
