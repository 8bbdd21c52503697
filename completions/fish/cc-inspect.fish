complete -c cc-inspect -l root -d 'The store\'s root folder' -r -F
complete -c cc-inspect -s f -l format -d 'Print one field per object, by its path: `State.Pid`, `Config.Env` (`{{.State.Pid}}` works too)' -r
complete -c cc-inspect -l type -d 'Only look for images, or only for containers' -r -f -a "image\t''
container\t''"
complete -c cc-inspect -s h -l help -d 'Print help'
complete -c cc-inspect -s V -l version -d 'Print version'
