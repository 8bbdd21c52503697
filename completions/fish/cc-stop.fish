complete -c cc-stop -l root -d 'The store\'s root folder' -r -F
complete -c cc-stop -s t -l time -l timeout -d 'Seconds to wait before SIGKILL' -r
complete -c cc-stop -s h -l help -d 'Print help'
complete -c cc-stop -s V -l version -d 'Print version'
