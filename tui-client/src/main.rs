//! `tui-client`: the terminal dashboard over both services (issue #6; not yet built).

fn main() {
    eprintln!(
        "tui-client: the dashboard is not built yet (issue #6). What runs today: \
         cargo run --release -p market-svc -- fit --input prices.csv (see README.md)"
    );
    std::process::exit(2);
}
