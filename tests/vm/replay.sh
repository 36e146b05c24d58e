#!/bin/sh
echo "RESULT replay-claim fail not written yet"
