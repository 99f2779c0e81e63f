"""Deployment: the systemd units of a config (`monitor systemd render`) and what a unit will
need on the machine (`monitor check-config --deployment`)."""
