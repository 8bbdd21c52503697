complete -c cc-exec -l root -d 'The store\'s root folder' -r -F
complete -c cc-exec -s e -l env -d 'Set an environment variable; `-e K` takes K from cc-exec\'s environment' -r
complete -c cc-exec -s u -l user -d 'Run as USER[:GROUP] (default: the container\'s user)' -r
complete -c cc-exec -s w -l workdir -d 'Working folder (default: the container\'s)' -r
complete -c cc-exec -s d -l detach -d 'Run in the background'
complete -c cc-exec -s i -l interactive -d 'Keep stdin open'
complete -c cc-exec -s t -l tty -d 'Allocate a pseudo-terminal'
complete -c cc-exec -s h -l help -d 'Print help'
complete -c cc-exec -s V -l version -d 'Print version'
