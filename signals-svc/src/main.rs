//! `signals-svc`: RSI/Bollinger trading signals over REST (issue #5; not yet built).

fn main() {
    eprintln!("signals-svc: not built yet (issue #5); see README.md for what runs today");
    std::process::exit(2);
}
