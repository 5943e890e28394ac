using System.Diagnostics.Metrics;
using Gatehouse.Testing;

namespace Gatehouse.Observability.Tests;

public sealed class PrometheusExporterTests : IDisposable
{
    // Every test has its own meter, so tests running in parallel never see each other's instruments.
    private readonly Meter _meter = new("Gatehouse.Tests." + Guid.NewGuid().ToString("N"));

    public void Dispose() => _meter.Dispose();

    private PrometheusExporter CreateExporter() => new(_meter.Name);

    [Fact]
    public async Task Counter_without_tags_sums_exactly_what_four_threads_added()
    {
        var requests = _meter.CreateCounter<long>("gatehouse.portal.requests");
        using var exporter = CreateExporter();

        await RunOnThreads(4, () =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                requests.Add(1);
            }
        });

        Assert.Equal(40_000, Exposition.Parse(exporter.Render())["gatehouse_portal_requests_total"]);
    }

    [Fact]
    public async Task Double_counter_without_tags_sums_exactly_what_four_threads_added()
    {
        var seconds = _meter.CreateCounter<double>("gatehouse.agent.busy_seconds");
        using var exporter = CreateExporter();

        // Halves add up exactly in binary floating point, so any lost update shows.
        await RunOnThreads(4, () =>
        {
            for (int i = 0; i < 100_000; i++)
            {
                seconds.Add(0.5);
            }
        });

        Assert.Equal(200_000, Exposition.Parse(exporter.Render())["gatehouse_agent_busy_seconds_total"]);
    }

    [Fact]
    public async Task Counter_with_tags_keeps_one_series_per_tag_set_whatever_the_tag_order()
    {
        var bytes = _meter.CreateCounter<double>("gatehouse.edge.bytes");
        using var exporter = CreateExporter();

        await RunOnThreads(4, () =>
        {
            for (int i = 0; i < 10_000; i++)
            {
                bytes.Add(0.5, new("route", "a"), new("method", "GET"));
                bytes.Add(0.25, new("method", "GET"), new("route", "a"));
                bytes.Add(2, new KeyValuePair<string, object?>("route", "b"));
            }
        });

        var samples = Exposition.Parse(exporter.Render());
        Assert.Equal(30_000, samples["gatehouse_edge_bytes_total{method=\"GET\",route=\"a\"}"]);
        Assert.Equal(80_000, samples["gatehouse_edge_bytes_total{route=\"b\"}"]);
        Assert.Equal(2, samples.Count);
    }

    [Fact]
    public void Counters_of_every_numeric_type_are_exported()
    {
        using var exporter = CreateExporter();

        _meter.CreateCounter<byte>("b").Add(1);
        _meter.CreateCounter<short>("s").Add(2);
        _meter.CreateCounter<int>("i").Add(3);
        _meter.CreateCounter<long>("l").Add(4);
        _meter.CreateCounter<float>("f").Add(5.5f);
        _meter.CreateCounter<double>("d").Add(6.25);
        _meter.CreateCounter<decimal>("m").Add(7.75m);

        var samples = Exposition.Parse(exporter.Render());
        Assert.Equal(
            [("b_total", 1), ("d_total", 6.25), ("f_total", 5.5), ("i_total", 3), ("l_total", 4), ("m_total", 7.75), ("s_total", 2)],
            samples.Select(s => (s.Key, s.Value)).Order().ToArray());
    }

    [Fact]
    public void Counter_ignores_negative_increments()
    {
        var counter = _meter.CreateCounter<int>("requests");
        using var exporter = CreateExporter();

        counter.Add(5);
        counter.Add(-3);

        Assert.Equal(5, Exposition.Parse(exporter.Render())["requests_total"]);
    }

    [Fact]
    public void Counter_already_named_total_is_not_suffixed_twice()
    {
        _meter.CreateObservableCounter("process_cpu_seconds_total", () => 1.5);
        using var exporter = CreateExporter();

        string text = exporter.Render();

        Assert.Equal(1.5, Exposition.Parse(text)["process_cpu_seconds_total"]);
        Assert.Equal("counter", Exposition.Types(text)["process_cpu_seconds_total"]);
    }

    [Fact]
    public void Histogram_buckets_are_cumulative_and_count_and_sum_are_right()
    {
        var latency = _meter.CreateHistogram<double>("gatehouse.edge.latency", unit: "s");
        using var exporter = CreateExporter();

        double[] values = [0.0003, 0.001, 0.003, 0.7, 20];
        foreach (double value in values)
        {
            latency.Record(value, new KeyValuePair<string, object?>("peer", "edge-1"));
        }

        string text = exporter.Render();
        var samples = Exposition.Parse(text);
        string Bucket(string le) => $"gatehouse_edge_latency_bucket{{peer=\"edge-1\",le=\"{le}\"}}";
        Assert.Equal("histogram", Exposition.Types(text)["gatehouse_edge_latency"]);
        Assert.Equal(1, samples[Bucket("0.0005")]);
        Assert.Equal(2, samples[Bucket("0.001")]); // 0.001 itself is counted in le="0.001"
        Assert.Equal(2, samples[Bucket("0.0025")]);
        Assert.Equal(3, samples[Bucket("0.005")]);
        Assert.Equal(3, samples[Bucket("0.5")]);
        Assert.Equal(4, samples[Bucket("1")]);
        Assert.Equal(4, samples[Bucket("10")]);
        Assert.Equal(5, samples[Bucket("+Inf")]);
        Assert.Equal(5, samples["gatehouse_edge_latency_count{peer=\"edge-1\"}"]);
        Assert.Equal(values.Sum(), samples["gatehouse_edge_latency_sum{peer=\"edge-1\"}"], 1e-12);
        Assert.Equal(14 + 1 + 2, samples.Count);
    }

    [Fact]
    public void Histogram_honours_the_bucket_boundaries_the_instrument_advises()
    {
        var size = _meter.CreateHistogram<int>(
            "gatehouse.agent.packet_size",
            unit: "By",
            description: null,
            tags: null,
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [10, 100, 1000] });
        using var exporter = CreateExporter();

        foreach (int value in (int[])[5, 50, 500, 5000])
        {
            size.Record(value);
        }

        var samples = Exposition.Parse(exporter.Render());
        Assert.Equal(1, samples["gatehouse_agent_packet_size_bucket{le=\"10\"}"]);
        Assert.Equal(2, samples["gatehouse_agent_packet_size_bucket{le=\"100\"}"]);
        Assert.Equal(3, samples["gatehouse_agent_packet_size_bucket{le=\"1000\"}"]);
        Assert.Equal(4, samples["gatehouse_agent_packet_size_bucket{le=\"+Inf\"}"]);
        Assert.Equal(5555, samples["gatehouse_agent_packet_size_sum"]);
        Assert.Equal(4, samples["gatehouse_agent_packet_size_count"]);
        Assert.Equal(6, samples.Count);
    }

    [Fact]
    public void Histogram_in_milliseconds_gets_the_default_bounds_times_a_thousand()
    {
        var latency = _meter.CreateHistogram<double>("latency", unit: "ms");
        using var exporter = CreateExporter();

        latency.Record(3);

        var les = Exposition.Parse(exporter.Render()).Keys
            .Where(k => k.StartsWith("latency_bucket", StringComparison.Ordinal))
            .Select(k => k[(k.IndexOf("le=\"", StringComparison.Ordinal) + 4)..k.LastIndexOf('"')])
            .ToArray();
        Assert.Equal(["0.5", "1", "2.5", "5", "10", "25", "50", "100", "250", "500", "1000", "2500", "5000", "10000", "+Inf"], les);
    }

    [Fact]
    public void Observable_gauge_value_appears_with_its_tags()
    {
        _meter.CreateObservableGauge("gatehouse.connector.sessions", () => new Measurement<int>(3, new KeyValuePair<string, object?>("app", "wiki")));
        using var exporter = CreateExporter();

        string text = exporter.Render();

        Assert.Equal(3, Exposition.Parse(text)["gatehouse_connector_sessions{app=\"wiki\"}"]);
        Assert.Equal("gauge", Exposition.Types(text)["gatehouse_connector_sessions"]);
    }

    [Fact]
    public void Observable_series_no_longer_reported_are_dropped()
    {
        var peers = new List<string> { "edge-1", "edge-2" };
        _meter.CreateObservableGauge("peers.up", () => peers.Select(p => new Measurement<long>(1, new KeyValuePair<string, object?>("peer", p))));
        using var exporter = CreateExporter();
        Assert.Equal(2, Exposition.Parse(exporter.Render()).Count);

        peers.Remove("edge-1");

        var samples = Exposition.Parse(exporter.Render());
        Assert.Equal(["peers_up{peer=\"edge-2\"}"], samples.Keys);
    }

    [Fact]
    public void UpDownCounter_and_Gauge_are_gauges_of_the_sum_and_of_the_last_value()
    {
        var open = _meter.CreateUpDownCounter<long>("tunnels.open");
        var temperature = _meter.CreateGauge<double>("temperature");
        using var exporter = CreateExporter();

        open.Add(5);
        open.Add(-2);
        temperature.Record(7.5);
        temperature.Record(-4.25);

        string text = exporter.Render();
        var samples = Exposition.Parse(text);
        Assert.Equal(3, samples["tunnels_open"]);
        Assert.Equal(-4.25, samples["temperature"]);
        Assert.Equal("gauge", Exposition.Types(text)["tunnels_open"]);
        Assert.Equal("gauge", Exposition.Types(text)["temperature"]);
    }

    [Fact]
    public void Meter_not_matching_the_filter_is_excluded()
    {
        using var other = new Meter(_meter.Name + "x");
        var included = _meter.CreateCounter<int>("included");
        var excluded = other.CreateCounter<int>("excluded");
        using var exporter = new PrometheusExporter(meter => meter == _meter);

        included.Add(1);
        excluded.Add(1);

        Assert.False(excluded.Enabled);

        Assert.Equal(["included_total"], Exposition.Parse(exporter.Render()).Keys);
    }

    [Fact]
    public void Prefix_filter_matches_meters_by_name_prefix()
    {
        using var child = new Meter(_meter.Name + ".Child");
        using var unrelated = new Meter("Unrelated." + _meter.Name);
        using var exporter = CreateExporter();

        child.CreateCounter<int>("child").Add(1);
        unrelated.CreateCounter<int>("unrelated").Add(1);

        Assert.Equal(["child_total"], Exposition.Parse(exporter.Render()).Keys);
    }

    [Fact]
    public void Instruments_created_after_the_exporter_are_picked_up()
    {
        using var exporter = CreateExporter();
        Assert.Equal(string.Empty, exporter.Render());

        using var late = new Meter(_meter.Name + ".Late");
        late.CreateCounter<long>("late.requests").Add(2);
        _meter.CreateHistogram<double>("late.latency").Record(0.1);

        var samples = Exposition.Parse(exporter.Render());
        Assert.Equal(2, samples["late_requests_total"]);
        Assert.Equal(1, samples["late_latency_count"]);
    }

    [Fact]
    public void Label_values_and_help_are_escaped()
    {
        using var exporter = CreateExporter();
        _meter.CreateCounter<int>("escaped", unit: null, description: "Counts \"things\" in C:\\path\nsecond line")
            .Add(1, new KeyValuePair<string, object?>("path", "C:\\dir \"quoted\"\nnext"));

        string text = exporter.Render();

        Assert.Contains("# HELP escaped_total Counts \"things\" in C:\\\\path\\nsecond line\n", text, StringComparison.Ordinal);
        Assert.Equal(1, Exposition.Parse(text)["escaped_total{path=\"C:\\\\dir \\\"quoted\\\"\\nnext\"}"]);
    }

    [Fact]
    public void Metric_and_label_names_are_sanitised()
    {
        var requests = _meter.CreateCounter<long>("gatehouse.portal.requests");
        var latency = _meter.CreateHistogram<double>("edge-latency/p2p");
        var digits = _meter.CreateUpDownCounter<int>("2fa.pending");
        using var exporter = CreateExporter();

        requests.Add(1, new KeyValuePair<string, object?>("http.route", "/api"), new("1st-try", true));
        latency.Record(1);
        digits.Add(1);

        var samples = Exposition.Parse(exporter.Render());
        Assert.Equal(1, samples["gatehouse_portal_requests_total{_1st_try=\"true\",http_route=\"/api\"}"]);
        Assert.Equal(1, samples["edge_latency_p2p_count"]);
        Assert.Equal(1, samples["_2fa_pending"]);
    }

    [Fact]
    public void Labels_are_sorted_by_name_and_values_formatted_invariantly()
    {
        var counter = _meter.CreateCounter<int>("sorted");
        using var exporter = CreateExporter();

        counter.Add(1, new("zone", "b"), new("alpha", 1.5), new("mid", null));

        Assert.Equal(["sorted_total{alpha=\"1.5\",mid=\"\",zone=\"b\"}"], Exposition.Parse(exporter.Render()).Keys);
    }

    [Fact]
    public void Output_is_valid_text_ending_in_a_newline_with_one_type_line_per_family_in_name_order()
    {
        using var second = new Meter(_meter.Name + ".Second");
        using var exporter = CreateExporter();
        _meter.CreateCounter<int>("zeta").Add(1, new KeyValuePair<string, object?>("a", "1"));
        _meter.CreateCounter<int>("zeta").Add(1, new KeyValuePair<string, object?>("a", "2"));
        second.CreateCounter<int>("zeta").Add(1, new KeyValuePair<string, object?>("a", "3"));
        _meter.CreateHistogram<float>("alpha", unit: null, description: "Alpha.").Record(1, new KeyValuePair<string, object?>("x", "y"));
        _meter.CreateHistogram<float>("alpha").Record(2, new KeyValuePair<string, object?>("x", "z"));
        _meter.CreateObservableUpDownCounter("mid", () => -1);
        _meter.CreateCounter<int>("never.measured");

        string text = exporter.Render();

        Exposition.Parse(text);
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        var typeLines = text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["# TYPE alpha histogram", "# TYPE mid gauge", "# TYPE zeta_total counter"], typeLines);
        Assert.Equal(text, exporter.Render());
    }

    [Fact]
    public void Instrument_whose_name_is_already_a_family_of_another_type_is_left_out()
    {
        using var second = new Meter(_meter.Name + ".Second");
        using var exporter = CreateExporter();
        _meter.CreateUpDownCounter<int>("clash").Add(1);
        second.CreateHistogram<int>("clash").Record(1);

        string text = exporter.Render();

        Assert.Equal(1, Exposition.Parse(text)["clash"]);
        Assert.Contains("# left out clash of meter " + second.Name, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Failing_observable_callback_does_not_break_the_scrape()
    {
        _meter.CreateObservableGauge("broken", int () => throw new InvalidOperationException("sensor gone"));
        _meter.CreateObservableGauge("working", () => 42);
        using var exporter = CreateExporter();

        string text = exporter.Render();

        Assert.Equal(["working"], Exposition.Parse(text).Keys);
        Assert.Contains("# an observable instrument callback failed: InvalidOperationException: sensor gone\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Series_of_a_disposed_meter_are_dropped()
    {
        using var exporter = CreateExporter();
        var meter = new Meter(_meter.Name + ".Short");
        meter.CreateCounter<int>("short.lived").Add(1);
        Assert.Single(Exposition.Parse(exporter.Render()));

        meter.Dispose();

        Assert.Equal(string.Empty, exporter.Render());
    }

    [Fact]
    public void Dispose_stops_collection()
    {
        int observed = 0;
        var counter = _meter.CreateCounter<int>("stopped");
        _meter.CreateObservableGauge("observed", () => Interlocked.Increment(ref observed));
        var exporter = CreateExporter();
        exporter.Render();
        Assert.True(counter.Enabled);
        Assert.Equal(1, observed);

        exporter.Dispose();
        counter.Add(1);

        Assert.False(counter.Enabled);
        Assert.Throws<ObjectDisposedException>(() => exporter.Render());
        Assert.Equal(1, observed);
        exporter.Dispose();
    }

    [Fact]
    public void Render_and_WriteTo_write_the_same_text()
    {
        using var exporter = CreateExporter();
        _meter.CreateCounter<double>("same").Add(1.5);

        // A writer whose culture would print "1,5" must still get "1.5".
        var culture = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
        culture.NumberFormat.NumberDecimalSeparator = ",";
        using var writer = new StringWriter(culture);
        exporter.WriteTo(writer);

        Assert.Equal(exporter.Render(), writer.ToString());
        Assert.Contains("same_total 1.5\n", writer.ToString(), StringComparison.Ordinal);
    }

    private static async Task RunOnThreads(int threads, Action work)
    {
        using var start = new Barrier(threads);
        var tasks = new Task[threads];
        for (int t = 0; t < threads; t++)
        {
            tasks[t] = Task.Factory.StartNew(
                () =>
                {
                    start.SignalAndWait(TestTimeouts.Default);
                    work();
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        await Task.WhenAll(tasks).DefaultTimeout();
    }
}
