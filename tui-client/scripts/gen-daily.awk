# Writes a small long-format daily price file (date,symbol,close) with GARCH(1,1) returns,
# for the e2e check when the bundled data/simulated_daily_data.csv is absent.
# Usage: awk -v symbols=8 -v days=750 -f gen-daily.awk > simulated_daily_data.csv
function randn(   u, v) {
    u = rand(); v = rand();
    if (u < 1e-12) u = 1e-12;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}
function date(n,   y, m, d, dim) {
    y = 2020; m = 1; d = 1;
    while (n-- > 0) {
        d++;
        dim = (m == 2) ? ((y % 4 == 0) ? 29 : 28) : ((m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31);
        if (d > dim) { d = 1; m++; if (m > 12) { m = 1; y++ } }
    }
    return sprintf("%04d-%02d-%02d", y, m, d);
}
BEGIN {
    srand(42);
    if (symbols == "") symbols = 8;
    if (days == "") days = 750;
    split("AAPL MSFT NVDA AMZN GOOG META TSLA JPM XOM UNH V PG", names, " ");
    for (t = 0; t < days; t++) dates[t] = date(t);
    print "date,symbol,close";
    for (s = 1; s <= symbols; s++) {
        omega = 0.02 + 0.01 * s; alpha = 0.05 + 0.005 * s; beta = 0.90 - 0.006 * s;
        h = omega / (1 - alpha - beta); price = 50 + 20 * s;
        for (t = 0; t < days; t++) {
            e = sqrt(h) * randn();
            price = price * exp((0.03 + e) / 100);
            printf "%s,%s,%.4f\n", dates[t], names[s], price;
            h = omega + alpha * e * e + beta * h;
        }
    }
}
