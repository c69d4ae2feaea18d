package simcmd

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// ErrPlotFormat is returned for a chart file name that ends neither in
// .png nor in .svg.
var ErrPlotFormat = errors.New("simcmd: chart file must end in .png or .svg")

// rekeyMarks draws a thin vertical line across the data area at each
// rekey start, so dips and drops can be matched to rekeys.
type rekeyMarks struct{ xs []float64 }

// Plot implements plot.Plotter.
func (m rekeyMarks) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	sty := draw.LineStyle{Color: color.Gray{Y: 170}, Width: vg.Points(0.5),
		Dashes: []vg.Length{vg.Points(2), vg.Points(2)}}
	for _, x := range m.xs {
		if x < plt.X.Min || x > plt.X.Max {
			continue
		}
		px := trX(x)
		c.StrokeLine2(sty, px, c.Min.Y, px, c.Max.Y)
	}
}

// timePanel is a line per profile of one series, in packets per second.
func (r *Report) timePanel(title, ylabel string, legendTop bool, pick func(i int) []uint64) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "virtual time (s)"
	p.Y.Label.Text = ylabel
	p.Legend.Top = legendTop // away from where the lines run
	var xs []float64
	if len(r.Outcomes) > 0 {
		// The profiles share their rekey schedule closely; one set of
		// marks reads best.
		for _, t := range r.Outcomes[0].Series.RekeyStarts {
			xs = append(xs, t.Seconds())
		}
	}
	p.Add(rekeyMarks{xs})
	from := r.plotFrom()
	for i, o := range r.Outcomes {
		s := o.Series
		n := int(o.Result.Now / s.Bucket) // whole buckets reached
		ys := pick(i)
		n = min(n, len(ys))
		var pts plotter.XYs
		w := s.Bucket.Seconds()
		for b := int(from / s.Bucket); b < n; b++ {
			pts = append(pts, plotter.XY{X: (float64(b) + 0.5) * w, Y: float64(ys[b]) / w})
		}
		if len(pts) == 0 {
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.Color = plotutil.Color(i)
		l.Dashes = plotutil.Dashes(i)
		l.Width = vg.Points(1.2)
		p.Add(l)
		p.Legend.Add(o.Profile, l)
	}
	return p, nil
}

// plotFrom is where the time panels start: halfway to the first rekey, so
// that the first negotiation (whose acquire queue and drops are not a
// rekey's) does not dwarf the rekeys.
func (r *Report) plotFrom() time.Duration {
	if len(r.Outcomes) == 0 || len(r.Outcomes[0].Series.RekeyStarts) == 0 {
		return 0
	}
	return r.Outcomes[0].Series.RekeyStarts[0] / 2
}

// barPanel is the loss per rekey of every profile.
func (r *Report) barPanel() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "Dropped for lack of an active SA, per completed rekey"
	p.Y.Label.Text = "packets per rekey"
	vals := make(plotter.Values, len(r.Outcomes))
	names := make([]string, len(r.Outcomes))
	for i, o := range r.Outcomes {
		vals[i] = o.LossPerRekey()
		names[i] = o.Profile
	}
	b, err := plotter.NewBarChart(vals, vg.Points(30))
	if err != nil {
		return nil, err
	}
	b.Color = plotutil.Color(0)
	b.LineStyle.Width = 0
	p.Add(b)
	labels, err := plotter.NewLabels(plotter.XYLabels{XYs: barTops(vals), Labels: barText(vals)})
	if err == nil {
		p.Add(labels)
	}
	p.NominalX(names...)
	p.Y.Min = 0
	return p, nil
}

func barTops(v plotter.Values) plotter.XYs {
	xy := make(plotter.XYs, len(v))
	for i, y := range v {
		xy[i] = plotter.XY{X: float64(i) - 0.15, Y: y}
	}
	return xy
}

func barText(v plotter.Values) []string {
	s := make([]string, len(v))
	for i, y := range v {
		s[i] = fmt.Sprintf("%.2f", y)
	}
	return s
}

// WritePlot renders the chart, one image with three panels: delivered
// throughput over time, drops for lack of an active SA over time (both
// summed over tunnels, one line per profile, rekey starts as dashed grey
// lines) from halfway to the first rekey, and a bar chart of loss per rekey by profile. format is "png"
// or "svg".
func (r *Report) WritePlot(w io.Writer, format string) error {
	tp, err := r.timePanel("Delivered packets (all tunnels, both directions)", "packets/s", false,
		func(i int) []uint64 { return r.Outcomes[i].Series.Delivered })
	if err != nil {
		return err
	}
	dp, err := r.timePanel("Dropped for lack of an active SA", "packets/s", true,
		func(i int) []uint64 { return r.Outcomes[i].Series.Lack })
	if err != nil {
		return err
	}
	bp, err := r.barPanel()
	if err != nil {
		return err
	}
	const width, height = 11 * vg.Inch, 12 * vg.Inch
	var c vg.CanvasWriterTo
	switch format {
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(96),
			vgimg.UseBackgroundColor(color.White))}
	case "svg":
		c = vgsvg.New(width, height)
	default:
		return ErrPlotFormat
	}
	dc := draw.New(c)
	tiles := draw.Tiles{Rows: 3, Cols: 1, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 6,
		PadTop: vg.Millimeter * 4, PadBottom: vg.Millimeter * 4, PadLeft: vg.Millimeter * 4, PadRight: vg.Millimeter * 4}
	plots := [][]*plot.Plot{{tp}, {dp}, {bp}}
	cs := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(cs[i][0])
	}
	_, err = c.WriteTo(w)
	return err
}

// plotFormat derives the format from a file name.
func plotFormat(name string) (string, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png":
		return "png", nil
	case ".svg":
		return "svg", nil
	}
	return "", ErrPlotFormat
}
