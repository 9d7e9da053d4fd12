package forward

import (
	"time"

	"github.com/nats-io/nats.go"

	"uneventful.dev/uneventful/pkg/microapi"
)

// serviceAPI makes a service instance a NATS micro service to the standard tooling: it
// answers $SRV.PING/INFO/STATS under the service's name, with one endpoint, "call", on
// its subject and queue group.
type serviceAPI struct {
	svc  *microapi.Service
	call *microapi.Endpoint
}

func advertise(nc *nats.Conn, domain, name string) (*serviceAPI, error) {
	svc, err := microapi.Advertise(nc, microapi.Config{Name: name, Description: "a service of domain " + domain + " (forward.Serve)",
		Metadata: map[string]string{"domain": domain}})
	if err != nil {
		return nil, err
	}
	return &serviceAPI{svc: svc, call: svc.Endpoint("call", ServiceSubject(name), serviceQueueGroup)}, nil
}

// serviceQueueGroup is the queue group a service's instances share their calls in.
const serviceQueueGroup = "service"

func (a *serviceAPI) record(d time.Duration, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	a.call.Record(d, msg)
}
