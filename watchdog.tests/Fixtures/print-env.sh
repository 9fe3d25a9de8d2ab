#!/bin/sh
# Prints the environment, one VAR=value a line, sorted.
env | sort
