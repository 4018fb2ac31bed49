package serve

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/dockaudit/dockaudit/internal/store"
)

// Event kinds, in webhook payloads and the events API.
const (
	KindScanned    = "image.scanned"   // an image was scanned for the first time
	KindUncovered  = "image.uncovered" // some of an image's packages were matched against no advisory source
	KindFailed     = "image.failed"    // an image could not be read, after every retry
	KindUnsigned   = "image.unsigned"  // an image was pushed that no verified signature covers
	KindNew        = "vulnerability.new"
	KindFixed      = "vulnerability.fixed"     // no longer matched: the advisory now names a fix the image has
	KindWithdrawn  = "vulnerability.withdrawn" // no longer matched: the advisory was withdrawn or removed
	KindHostReport = "host.report"             // a host submitted a report
)

var eventKinds = []string{KindScanned, KindUncovered, KindFailed, KindUnsigned, KindNew, KindFixed, KindWithdrawn, KindHostReport}

func knownKind(k string) bool { return slices.Contains(eventKinds, k) }

// EventImage names the image an event is about.
type EventImage struct {
	Registry   string   `json:"registry"`
	Repository string   `json:"repository"`
	Tags       []string `json:"tags,omitempty"`
	Digest     string   `json:"digest"`
	Platform   string   `json:"platform,omitempty"`
}

// EventPayload is the JSON a receiver gets.
type EventPayload struct {
	ID            string         `json:"id"` // the idempotency key: the same event is sent under the same id
	Kind          string         `json:"kind"`
	Time          time.Time      `json:"time"`
	Image         *EventImage    `json:"image,omitempty"`
	Vulnerability *store.VulnRow `json:"vulnerability,omitempty"`
	Reason        string         `json:"reason,omitempty"`
	Counts        map[string]int `json:"counts,omitempty"`
	Host          string         `json:"host,omitempty"`
	Database      *DatabaseRef   `json:"database,omitempty"`
}

// DatabaseRef is the advisory database an event was judged with.
type DatabaseRef struct {
	Built  time.Time `json:"built"`
	SHA256 string    `json:"sha256"`
}

// event makes an outbox entry for every receiver that wants the kind.
func (s *Server) event(key, kind string, p EventPayload) store.Event {
	p.ID, p.Kind = key, kind
	if p.Time.IsZero() {
		p.Time = s.opts.Now().UTC()
	}
	return store.Event{Key: key, Kind: kind, Payload: p, Receivers: s.cfg.receiversFor(kind)}
}

// receiversFor lists the webhook URLs an event kind goes to.
func (c *Config) receiversFor(kind string) []string {
	var out []string
	for _, w := range c.Webhooks {
		if len(w.Events) == 0 || slices.Contains(w.Events, kind) {
			out = append(out, w.URL)
		}
	}
	return out
}

// Signature is the X-Dockaudit-Signature header: "sha256=" and the HMAC-SHA256 of
// "TIMESTAMP.BODY" under the receiver's secret, hex; the timestamp is
// X-Dockaudit-Timestamp (Unix seconds), so a receiver can refuse replays.
func Signature(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	fmt.Fprintf(m, "%d.", ts)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// receiverName is a webhook URL as logs and errors show it: scheme and host only. Many
// receivers (Slack, Teams, chat bridges) carry their secret in the path or the query.
func receiverName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "a webhook receiver"
	}
	if u.Path == "" && u.RawQuery == "" && u.User == nil {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// backoff is the wait before attempt n+1: 5 s doubling to an hour.
func backoff(n int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// deliver sends due deliveries until there are none.
func (s *Server) deliver(ctx context.Context) (int, error) {
	sent := 0
	for ctx.Err() == nil {
		d, err := s.store.NextDelivery(ctx, 2*time.Minute, s.receivers())
		if err != nil || d == nil {
			return sent, err
		}
		w := s.webhook(d.Receiver)
		if w == nil {
			err = fmt.Errorf("no webhook %s in the configuration", receiverName(d.Receiver))
		} else {
			err = s.post(ctx, w, d)
		}
		if err != nil {
			s.log.Warn("webhook delivery failed", "receiver", receiverName(d.Receiver), "event", d.Key, "attempt", d.Attempts, "error", err)
			if err := s.store.DeliveryFailed(ctx, d, err, backoff(d.Attempts)); err != nil {
				return sent, err
			}
			continue
		}
		if err := s.store.Delivered(ctx, d); err != nil {
			return sent, err
		}
		s.metrics.add("delivered", 1)
		sent++
	}
	return sent, ctx.Err()
}

// receivers are the webhook URLs of the configuration.
func (s *Server) receivers() []string {
	out := make([]string, len(s.cfg.Webhooks))
	for i, w := range s.cfg.Webhooks {
		out[i] = w.URL
	}
	return out
}

// prune drops the events older than the retention that every configured receiver
// has; what was owed to a receiver no longer configured goes with them.
func (s *Server) prune(ctx context.Context) {
	n, err := s.store.PruneEvents(ctx, s.opts.Now().Add(-time.Duration(s.cfg.Events.Retention)), s.receivers())
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Warn("pruning events", "error", err)
	case n > 0:
		s.log.Info("pruned events past the retention", "events", n, "retention", time.Duration(s.cfg.Events.Retention))
	}
}

func (s *Server) webhook(url string) *WebhookConfig {
	for i := range s.cfg.Webhooks {
		if s.cfg.Webhooks[i].URL == url {
			return &s.cfg.Webhooks[i]
		}
	}
	return nil
}

func (s *Server) post(ctx context.Context, w *WebhookConfig, d *store.Delivery) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ts := time.Now().Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "dockaudit")
	req.Header.Set("X-Dockaudit-Event", d.Kind)
	req.Header.Set("X-Dockaudit-Delivery", d.Key)
	req.Header.Set("Idempotency-Key", d.Key)
	req.Header.Set("X-Dockaudit-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Dockaudit-Signature", Signature(w.secret, ts, d.Payload))
	resp, err := s.hooks.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = receiverName(ue.URL)
		}
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", receiverName(w.URL), resp.Status)
	}
	return nil
}
