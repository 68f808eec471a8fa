//! Test support: spawns the real Arcade server on a random port and gives tests a typed client.
