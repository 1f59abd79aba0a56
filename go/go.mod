module hybridbench/goengine

go 1.22
