complete -c cc-restart -l root -d 'The store\'s root folder' -r -F
complete -c cc-restart -s t -l time -l timeout -d 'Seconds to wait before SIGKILL' -r
complete -c cc-restart -s h -l help -d 'Print help'
complete -c cc-restart -s V -l version -d 'Print version'
