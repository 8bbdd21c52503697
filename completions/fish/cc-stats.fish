complete -c cc-stats -l root -d 'The store\'s root folder [default: /var/lib/cc; for a user $XDG_DATA_HOME/cc, else ~/.local/share/cc]' -r -F
complete -c cc-stats -l format -d '`table` for people, `json` for one object per container per sample (docker\'s keys), or a Go template over them: `{{.Name}} {{.CPUPerc}}`, `table {{.ID}}\\t{{.MemUsage}}`' -r
complete -c cc-stats -s a -l all -d 'All containers, not only running ones (stopped ones read as zeros)'
complete -c cc-stats -l no-stream -d 'One sample, then exit'
complete -c cc-stats -l no-trunc -d 'Show whole ids'
complete -c cc-stats -s h -l help -d 'Print help'
complete -c cc-stats -s V -l version -d 'Print version'
