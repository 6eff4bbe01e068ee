module waystone/interop

go 1.19
