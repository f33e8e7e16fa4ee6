package views

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"hansewiki/workflow"
)

// webhookCollector reads the webhook deliveries waiting to be sent at
// scrape time; a failed read leaves the gauge out of that scrape.
type webhookCollector struct {
	workflow *workflow.Service
	log      *slog.Logger
	queued   *prometheus.Desc
}

func newWebhookCollector(wf *workflow.Service, log *slog.Logger) *webhookCollector {
	return &webhookCollector{workflow: wf, log: log,
		queued: prometheus.NewDesc("hansewiki_webhook_queue_length",
			"Webhook deliveries waiting to be sent (new ones and retries).", nil, nil)}
}

func (c *webhookCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.queued }

func (c *webhookCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), backlogTimeout)
	defer cancel()
	n, err := c.workflow.QueuedWebhooks(ctx)
	if err != nil {
		c.log.Warn("metrics: webhook queue", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.queued, prometheus.GaugeValue, float64(n))
}
