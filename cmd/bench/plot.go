package main

import (
	"image/color"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// plotStages draws reads/s and writes/s against stored events, with the ceilings as
// horizontal lines, into a PNG file.
func plotStages(path string, stages []stage, c ceilings) error {
	p := plot.New()
	p.Title.Text = "uneventful: throughput by stored events (2 cores, everything local)"
	p.X.Label.Text = "stored events"
	p.Y.Label.Text = "requests per second"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = true
	series := []struct {
		name  string
		value func(stage) float64
		color color.RGBA
	}{
		{"balance GETs", func(s stage) float64 { return s.Read.Rate() }, color.RGBA{B: 200, A: 255}},
		{"credits, 1,000 wallets", func(s stage) float64 { return s.Spread.Rate() }, color.RGBA{R: 200, A: 255}},
		{"credits, 1 hot wallet", func(s stage) float64 { return s.Hot.Rate() }, color.RGBA{G: 150, A: 255}},
	}
	minX, maxX := 1.0, 1.0
	for i, s := range stages {
		x := float64(max(s.Stored, 1))
		if i == 0 || x < minX {
			minX = x
		}
		if x > maxX {
			maxX = x
		}
	}
	for _, se := range series {
		pts := make(plotter.XYs, len(stages))
		for i, s := range stages {
			pts[i] = plotter.XY{X: float64(max(s.Stored, 1)), Y: se.value(s)}
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		line.Color, points.Color = se.color, se.color
		p.Add(line, points)
		p.Legend.Add(se.name, line)
	}
	ceil := []struct {
		name  string
		value float64
		color color.RGBA
	}{
		{"ceiling: hello-world HTTP", c.hello.Rate(), color.RGBA{R: 110, G: 110, B: 255, A: 255}},
		{"ceiling: NATS request/reply", c.nats, color.RGBA{R: 255, G: 110, B: 110, A: 255}},
		{"ceiling: Redis GET", c.redis, color.RGBA{R: 140, G: 140, B: 140, A: 255}},
	}
	for _, ce := range ceil {
		line, err := plotter.NewLine(plotter.XYs{{X: minX, Y: ce.value}, {X: maxX, Y: ce.value}})
		if err != nil {
			return err
		}
		line.Color = ce.color
		line.Dashes = []vg.Length{vg.Points(6), vg.Points(4)}
		p.Add(line)
		p.Legend.Add(ce.name, line)
	}
	p.Y.Min = 0
	p.Y.Max = 1.4 * max(c.hello.Rate(), c.nats, c.redis) // room for the legend above the lines
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return p.Save(9*vg.Inch, 5*vg.Inch, path)
}
