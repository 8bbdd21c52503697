complete -c cc-info -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-info -l format -d '`table` for people, `json` for one object, or a Go template as docker\'s: `{{.KernelVersion}}`; docker\'s fields ServerVersion, Containers, ContainersRunning, ContainersPaused, ContainersStopped, Images, Driver, DockerRootDir, KernelVersion, OSType, Architecture, NCPU, MemTotal, CgroupDriver, CgroupVersion, SwapLimit, and cc\'s own (store, features, ... as `--format json` shows them)' -r
complete -c cc-info -s h -l help -d 'Print help'
complete -c cc-info -s V -l version -d 'Print version'
