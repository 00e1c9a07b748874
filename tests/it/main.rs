//! Integration tests: the real binary against real servers on loopback.
//! One binary, one file per behaviour.

mod classifier;
mod cli;
mod daemon;
mod events;
mod faults;
mod helpers;
mod hostile;
mod mail;
mod operations;
mod page;
mod pipeline;
mod shared;
mod silences;
mod stories;
