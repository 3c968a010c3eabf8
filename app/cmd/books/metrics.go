package main

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/books-platform/books/app/metrics"
	"github.com/books-platform/books/app/postgres"
)

// metricsConfig reads the EMF settings; the variable names and defaults
// are those of app/metrics/metrics.json, which the infrastructure reads too.
func metricsConfig(getenv func(string) string) (metrics.Config, []error) {
	c, err := metrics.LoadCatalog()
	if err != nil {
		return metrics.Config{}, []error{err}
	}
	var errs []error
	cfg := metrics.Config{Namespace: envOr(getenv, c.Namespace.Env, c.Namespace.Default), Dimensions: map[string]string{}}
	if err := metrics.CheckNamespace(cfg.Namespace); err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", c.Namespace.Env, err))
	}
	for _, d := range c.Dimensions {
		v := envOr(getenv, d.Env, d.Default)
		if err := metrics.CheckDimensionValue(v); err != nil {
			errs = append(errs, fmt.Errorf("%s (dimension %s): %w", d.Env, d.Name, err))
		}
		cfg.Dimensions[d.Name] = v
	}
	raw := envOr(getenv, c.Interval.Env, c.Interval.Default)
	if iv, err := time.ParseDuration(raw); err != nil || iv < time.Second {
		errs = append(errs, fmt.Errorf("%s=%q is not a duration of at least 1s (e.g. 60s)", c.Interval.Env, raw))
	} else {
		cfg.Interval = iv
	}
	return cfg, errs
}

// startMetrics creates the recorder on out (stdout, next to the logs),
// reading the pool's statistics at every flush, and starts its flushes.
func startMetrics(cfg metrics.Config, out io.Writer, db *postgres.DB, logger *slog.Logger) (*metrics.Recorder, error) {
	cfg.Out, cfg.Logger = out, logger
	cfg.Pool = func() metrics.PoolStats {
		s := db.Pool.Stat()
		return metrics.PoolStats{
			Acquires: s.AcquireCount(), Waits: s.EmptyAcquireCount(), Canceled: s.CanceledAcquireCount(),
			WaitTime: s.EmptyAcquireWaitTime(), AcquireTime: s.AcquireDuration(),
		}
	}
	rec, err := metrics.New(cfg)
	if err != nil {
		return nil, err
	}
	rec.Start()
	return rec, nil
}
