complete -c cc-diff -l root -d 'The store\'s root folder' -r -F
complete -c cc-diff -l format -d '`table` for `KIND PATH` lines, `json` for one object per line (`{"Kind":"A","Path":"/x"}`)' -r -f -a "table\t''
json\t''"
complete -c cc-diff -s h -l help -d 'Print help'
complete -c cc-diff -s V -l version -d 'Print version'
