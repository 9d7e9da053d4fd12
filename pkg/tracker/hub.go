package tracker

import "sync"

// subscriberBuffer is how many updates a page's stream may fall behind before it is
// disconnected (it reconnects and reloads its lists).
const subscriberBuffer = 1024

// update is one changed item, as the page's stream sends it.
type update struct {
	position int64
	data     []byte // the item as JSON
}

// hub fans updates out to the page's streams; a stream too slow to keep up is dropped
// (its channel closed), never slowing the model.
type hub struct {
	mu   sync.Mutex
	subs map[chan update]struct{}
}

func (h *hub) subscribe() (<-chan update, func()) {
	ch := make(chan update, subscriberBuffer)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[chan update]struct{}{}
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
		h.mu.Unlock()
	}
}

func (h *hub) publish(u update) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- u:
		default:
			delete(h.subs, ch)
			close(ch)
		}
	}
}
